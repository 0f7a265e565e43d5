import { enumName, RequestStatus } from "./enums.ts";

export { RequestStatus };

export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

export function requestStatusName(status: number | bigint): string {
  return enumName(RequestStatus, status);
}

import { ZeroAddress, formatUnits } from "ethers";

/** `0.001 ETH`, `12.5 USDC`: an amount in a token's units, with trailing zeros dropped. */
export function formatAmount(amount: bigint, { decimals = 18, symbol = "ETH" } = {}): string {
  return `${formatUnits(amount, decimals).replace(/\.0$/, "")} ${symbol}`;
}

/** `0.001 ETH`, or for an ERC-20 the amount in its base units and the token's address. */
export function formatTokenAmount(amount: bigint, token: string): string {
  return token === ZeroAddress ? formatAmount(amount) : `${amount} (base units of token ${token})`;
}

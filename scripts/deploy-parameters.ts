/**
 * Writes the Ignition parameter file of every deploy profile, deploy/parameters/<name>.json,
 * from the one table in oracle/chain/deploy-profiles.ts. test/deploy/Verity.test.ts fails when
 * a file and its profile differ: run `node scripts/deploy-parameters.ts` after changing a profile.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { DEPLOY_PROFILES, deployProfileNames, ignitionParameters } from "../oracle/chain/deploy-profiles.ts";

export const parametersDir = path.resolve(import.meta.dirname, "../deploy/parameters");

/** The text of a profile's parameter file. */
export function parametersFileText(name: keyof typeof DEPLOY_PROFILES): string {
  return `${JSON.stringify(ignitionParameters(DEPLOY_PROFILES[name]), null, 2)}\n`;
}

if (import.meta.main) {
  for (const name of deployProfileNames) {
    const file = path.join(parametersDir, `${name}.json`);
    writeFileSync(file, parametersFileText(name));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

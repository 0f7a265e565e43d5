/**
 * Which models a provider daemon serves: the ids in `models` when the config lists any, else
 * every model its account opted in to (ProviderRegistry.servesModel). One definition for the
 * daemon, `verity provider status` and `verity provider doctor`.
 */
import type { Suite } from "../chain/connect.ts";
import type { VerityConfig } from "../config/schema.ts";

/** The registered models `account` opted in to, in id order. */
export async function optedInModelIds(suite: Pick<Suite, "modelRegistry" | "providerRegistry">, account: string) {
  const count = await suite.modelRegistry.modelCount();
  const ids: bigint[] = [];
  for (let id = 1n; id <= count; id++) if (await suite.providerRegistry.servesModel(account, id)) ids.push(id);
  return ids;
}

/** The models the daemon with `config` serves for `account`. */
export async function servedModelIds(
  config: Pick<VerityConfig, "models">,
  suite: Pick<Suite, "modelRegistry" | "providerRegistry">,
  account: string,
): Promise<bigint[]> {
  return config.models.length > 0 ? config.models.map((id) => BigInt(id)) : optedInModelIds(suite, account);
}

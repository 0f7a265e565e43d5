import { Contract, ZeroAddress, type Signer, type TransactionReceipt } from "ethers";
import { decodeRevert } from "../chain/revert-error.ts";
import { BaseError } from "../errors.ts";

export type FundAgentParameters = {
  /** The agent's account. */
  account: string;
  /** In wei, or the token's base units. */
  amount: bigint;
  /** An ERC-20 to send; ETH when absent (or address(0)). */
  token?: string | undefined;
};

export type FundAgentReturnType = {
  receipt: TransactionReceipt;
  /** The account's balance in that token afterwards. */
  balance: bigint;
};

const erc20Abi = [
  "function transfer(address to, uint256 amount) returns (bool)",
  "function balanceOf(address owner) view returns (uint256)",
];

/**
 * Adds to an agent's budget: ETH sent to its account, or an ERC-20 transferred to it. Anyone
 * may fund an agent; only its owner can take the budget out again (`withdrawFromAgent`).
 */
export async function fundAgent(
  signer: Signer,
  { account, amount, token = ZeroAddress }: FundAgentParameters,
): Promise<FundAgentReturnType> {
  if (amount <= 0n) throw new BaseError("The amount to fund an agent with must be more than 0.");
  const provider = signer.provider;
  if (!provider) throw new BaseError("fundAgent needs a signer connected to a node.");
  try {
    if (token === ZeroAddress) {
      const receipt = await (await signer.sendTransaction({ to: account, value: amount })).wait();
      return { receipt: receipt!, balance: await provider.getBalance(account) };
    }
    const erc20 = new Contract(token, erc20Abi, signer);
    const receipt = await (await erc20.getFunction("transfer")(account, amount)).wait();
    return {
      receipt: receipt as TransactionReceipt,
      balance: (await erc20.getFunction("balanceOf")(account)) as bigint,
    };
  } catch (error) {
    throw decodeRevert(`fund agent account ${account}`, error);
  }
}

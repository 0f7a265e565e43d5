import type { Signer } from "ethers";
import { deployContract } from "./deploy-suite.ts";
import type { DeployedContract } from "./deployment.ts";

export type DeployAgentsParameters = {
  /** Told of each contract deployed, with what a block explorer's verification needs. */
  onDeployed?: ((contract: DeployedContract) => void) | undefined;
};

export type DeployAgentsReturnType = {
  /** The account every agent's clone delegates to. */
  agentAccountImplementation: string;
  agentRegistry: string;
  validationRegistry: string;
  verityValidator: string;
};

/**
 * The agent contracts over a deployed market (docs/agents.md): the AgentAccount implementation,
 * the AgentRegistry (ERC-8004 identities and the factory of their account clones), ERC-8004's
 * ValidationRegistry over it and the VerityValidator, which answers validation requests from the
 * market's evidence. Nothing needs wiring afterwards: each takes what it reads in its constructor.
 */
export async function deployAgents(
  signer: Signer,
  market: string,
  { onDeployed }: DeployAgentsParameters = {},
): Promise<DeployAgentsReturnType> {
  const implementation = await deployContract(signer, "AgentAccount", [], onDeployed);
  const agentAccountImplementation = await implementation.getAddress();
  const registry = await deployContract(signer, "AgentRegistry", [market, agentAccountImplementation], onDeployed);
  const agentRegistry = await registry.getAddress();
  const validation = await deployContract(signer, "ValidationRegistry", [agentRegistry], onDeployed);
  const validationRegistry = await validation.getAddress();
  const validator = await deployContract(signer, "VerityValidator", [market, validationRegistry], onDeployed);
  return {
    agentAccountImplementation,
    agentRegistry,
    validationRegistry,
    verityValidator: await validator.getAddress(),
  };
}

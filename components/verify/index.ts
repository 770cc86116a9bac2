export { AppliedConcern, StateResource, appliedConcerns, stateValue } from "./applied";
export { ConcernState, ConcernStatus, checkConcern, parseCheckOutput, repairConcern } from "./check";
export { formatVerifyReport } from "./format";
export { StackLocation, VerifyOptions, VerifyReport, exitCodeOf, verifyDeployment, verifyStack } from "./verify";

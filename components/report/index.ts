export * from "./model";
export { certificatesFromState, hostViews, measuredRows } from "./derive";
export { reachDiagram } from "./diagram";
export { LegacyReportPolicy, ReportPolicy, policyRows, reportPolicy } from "./policy-view";
export { auditHtml } from "./html";
export { auditMarkdown } from "./markdown";

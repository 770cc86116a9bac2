export * from "./model";
export { certificatesFromState, hostViews, measuredRows } from "./derive";
export { reachDiagram } from "./diagram";
export { ReportPolicy, reportPolicy } from "./policy-view";
export { auditHtml } from "./html";
export { auditMarkdown } from "./markdown";

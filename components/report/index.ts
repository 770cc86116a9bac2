export { AuditData, CertificateRow, HostView, MeasuredAccess, ReportAllow, ReportMember, ScannerVerdict } from "./model";
export { certificatesFromState, hostViews, measuredRows } from "./derive";
export { reachDiagram } from "./diagram";
export { LegacyReportPolicy, ReportPolicy, policyRows, reportPolicy } from "./policy-view";
export { auditHtml } from "./html";
export { auditMarkdown } from "./markdown";
export { HostRecord, DropFlow, parseAccessRecord } from "./access-record";
export { NamedAddresses, RefusalReport, RefusalRow, commonName, portRanges, refusalRows, refusalWindow } from "./refusals";
export { refusalsSection } from "./refusals-section";

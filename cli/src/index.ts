// navctl's pieces, for tools and tests that want kubectl-like output without the process.
export { Connection, resolveSettings, grpcErrorMessage, type Settings, type GlobalOptions } from "./connection.js";
export { readManifestTexts, parseManifestText, decodeManifests, type DecodedManifest, type ManifestText } from "./manifests.js";
export { planApply } from "./merge.js";
export { age, humanDuration } from "./printers/age.js";
export { renderTable, TableWriter } from "./printers/table.js";
export { tableHeaders, tableRow } from "./printers/columns.js";
export { describeObject } from "./printers/describe.js";
export { kindRef, objectRef, resolveKinds } from "./resources.js";

export * from "./columns.js";
export * from "./tables.js";
export * from "./definition.js";
export * from "./plan.js";
export * from "./manifest.js";
export * from "./targets.js";
export * from "./pipeline.js";
export * from "./sources.js";

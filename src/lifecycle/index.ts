// Public face of src/lifecycle (shared/DESIGN.md: other folders import only this file).
export {};

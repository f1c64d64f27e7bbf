// Public face of src/nucleus (shared/DESIGN.md: other folders import only this file).
export {};

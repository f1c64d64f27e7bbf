// Public face of src/deployment (shared/DESIGN.md: other folders import only this file).
export {};

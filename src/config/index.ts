// Public face of src/config (shared/DESIGN.md: other folders import only this file).
export {};

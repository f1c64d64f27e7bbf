// Public face of src/localcloud (shared/DESIGN.md: other folders import only this file).
export {};

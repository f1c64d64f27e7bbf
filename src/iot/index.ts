// Public face of src/iot (shared/DESIGN.md: other folders import only this file).
export {};

// Public face of src/recipe (shared/DESIGN.md: other folders import only this file).
export {};

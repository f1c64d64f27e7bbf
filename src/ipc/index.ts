// Public face of src/ipc (shared/DESIGN.md: other folders import only this file).
export {};

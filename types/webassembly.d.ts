/**
 * The part of the WebAssembly JS API that Ultro uses (trainer/panel-syrk.ts).
 * Node has it as a global; the project compiles with lib ES2022 only, which
 * does not declare it (lib.dom would bring the whole browser with it).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}

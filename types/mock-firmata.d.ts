declare module 'mock-firmata' {
  import { EventEmitter } from 'node:events';
  export class Firmata extends EventEmitter {
    constructor(opts?: object);
    SERIAL_PORT_IDs: Record<string, number>;
    [k: string]: unknown;
  }
}

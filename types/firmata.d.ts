/**
 * firmata-io: the StandardFirmata host side johnny-five uses, without a bound
 * transport (Ultro passes its own serialport 13 port); only what Ultro needs.
 */
declare module 'firmata-io' {
  import { EventEmitter } from 'node:events';
  class Firmata extends EventEmitter {
    constructor(transport: object, options?: object, callback?: (e?: Error) => void);
  }
  const bindTransport: ((transport: unknown) => typeof Firmata) & { Firmata: typeof Firmata };
  export default bindTransport;
}

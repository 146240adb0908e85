/** firmata.js (the StandardFirmata host side johnny-five uses); only what Ultro needs. */
declare module 'firmata' {
  import { EventEmitter } from 'node:events';
  class Firmata extends EventEmitter {
    constructor(port: string | object, options?: object, callback?: (e?: Error) => void);
  }
  export default Firmata;
}

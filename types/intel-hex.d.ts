declare module 'intel-hex' {
  export interface ParsedHex {
    data: Buffer;
    startSegmentAddress: number | null;
    startLinearAddress: number | null;
  }
  export function parse(data: string | Buffer, bufferSize?: number, addressOffset?: number): ParsedHex;
  const _default: { parse: typeof parse };
  export default _default;
}

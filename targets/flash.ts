/**
 * Flashes a built firmware to a board on a serial port with the board's
 * flash tool (avrdude for the Uno, esptool for the ESP32). With no board on
 * the port, or no tool, it stops with a clear error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { commandArg } from '../sim/index.js';
import type { Board } from './boards.js';
import { ToolchainError, hasCommand } from './toolchain.js';

export function flashFirmware(board: Board, port: string, image: string): string {
  const tool = board.flashTool;
  if (tool.kind === 'none' || !tool.command) throw new ToolchainError(`${board.name}: nothing to flash (${tool.note})`);
  if (!existsSync(image)) throw new ToolchainError(`${image}: no firmware image; run \`ultro build --target ${board.name}\` first`);
  if (!existsSync(port)) throw new ToolchainError(`no board on ${port}: the port does not exist (is the board plugged in? try ls /dev/ttyACM* /dev/ttyUSB*)`);
  const cmd = tool.command;
  const alternatives = tool.kind === 'esptool' ? [cmd, 'esptool'] : [cmd];
  const found = alternatives.find(hasCommand);
  if (!found) throw new ToolchainError(`${cmd} is not installed (${tool.kind === 'avrdude' ? 'apt-get install avrdude' : 'pip install esptool'}); ${tool.note}`);
  // No shell runs the tool, but the tool itself parses its arguments: a port or image it could read as an option, or
  // (avrdude -U memory:op:file:format) an image path with a ':' in it, is refused. The image goes in as an absolute path.
  const portArg = commandArg(port, '--port');
  const imageArg = commandArg(resolve(image), '--image', tool.kind === 'avrdude' ? ':' : '');
  const args = tool.kind === 'avrdude' ? [...(tool.args ?? []), '-P', portArg, '-U', `flash:w:${imageArg}:i`] : ['--port', portArg, ...(tool.args ?? []), imageArg];
  const r = spawnSync(found, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new ToolchainError(`${found} failed on ${port}:\n${r.stderr || r.stdout}`);
  return `${board.name} flashed on ${port} with ${found}`;
}

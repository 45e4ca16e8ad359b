// Control commands: JSON requests from the server ({"cmd": name, ...}) answered with JSON.
// Adding a command is one registerControl(name, handler) call; handlers get the command and the
// host's context ({ db, ... }) and return the answer (an exception becomes { ok: false, error }).

const commands = new Map();

export function registerControl(name, handler) {
  if (commands.has(name)) throw new Error(`control command ${name} is registered twice`);
  commands.set(name, handler);
}

/** Runs one command; never throws. */
export async function runControl(command, context) {
  const handler = commands.get(command?.cmd);
  if (!handler) return { ok: false, error: `unknown command ${command?.cmd}` };
  try {
    return await handler(command, context);
  } catch (e) {
    return { ok: false, error: String(e?.message ?? e) };
  }
}

/** Parses and runs a Control frame's payload; the answer as UTF-8 JSON. */
export async function answerControl(payload, context) {
  let command;
  try {
    command = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (e) {
    return Buffer.from(JSON.stringify({ ok: false, error: `malformed control command: ${e.message}` }));
  }
  return Buffer.from(JSON.stringify(await runControl(command, context)));
}

// A continued run in the share link (issue 16 item 5). The state's `chain` lists the settings of
// every segment of the run on show but its last (the state's own settings), each with `at`, the
// t where the next segment takes over: GD until t = 5, then Adam is
// chain = [{ optimizer: "gd", …, at: 5 }] with optimizer "adam" in the state. A link restores it
// exactly as "Continue from here" made it (resume.js): each segment is replayed for its steps
// from the previous one's `resume`, then the last one streams on from there.
import { postDescent } from "./api.js";
import { describeChange } from "./resume.js";
import { StreamError } from "./runs.js";

// The chain of a run whose segments carry their settings (main.js gives each its own).
export const chainOf = (run) =>
  run.segments.slice(0, -1).map((s, i) => ({ ...s.settings, at: run.segments[i + 1].t }));

// Replay `chain` (bodyOf(settings): a request body) and return what fetchRun needs to stream the
// last segment (`settings`, asked as `body`) on from it: { request, prefix }.
export async function replayChain(chain, settings, body, bodyOf) {
  const prefix = { path: [], loss: [], grad: [], eta_t: [], segments: [] };
  let resume = null;
  let t = 0;
  for (const { at, ...s } of chain) {
    const segBody = bodyOf(s);
    if (!(at > t && at < body.max_steps))
      throw new StreamError(
        `This link continues its run at t = ${at}, outside t ${t} to ${body.max_steps}.`,
      );
    const done = await postDescent({
      ...segBody,
      max_steps: at - t,
      ...(resume ? { resume } : {}),
    });
    if (!done.resume || done.resume.t !== at)
      throw new StreamError(
        `This link continues its run at t = ${at}, but the run stopped (${done.status}) at t = ${t + done.steps}.`,
      );
    const from = resume ? 1 : 0; // a resumed answer begins with the iterate it resumes from
    prefix.path.push(...done.path.slice(from));
    prefix.loss.push(...done.loss.slice(from));
    prefix.grad.push(...done.grad.slice(from));
    prefix.eta_t.push(...done.eta); // the η that left each iterate but the last
    const note = prefix.segments.length
      ? describeChange(prefix.segments.at(-1).body.optimizer, segBody.optimizer)
      : "";
    prefix.segments.push({ t, body: segBody, resume, note, settings: s });
    resume = done.resume;
    t = at;
  }
  prefix.eta_t.push(null); // the last segment's first line gives it
  const note = describeChange(prefix.segments.at(-1).body.optimizer, body.optimizer);
  prefix.segments.push({ t, body, resume, note, settings });
  const request = { ...body, max_steps: body.max_steps - t, resume };
  return { request, prefix };
}

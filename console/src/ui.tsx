// Small building blocks: labelled fields (input, select, textarea) with
// their errors beside them, a page whose heading takes the focus, an error
// box and a notice, a loader hook and a hook for changes.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type Problem, problemOf } from "./api";

function asProblem(e: unknown): Problem {
  const p = e as Problem;
  return p && typeof p.message === "string" && p.fields ? p : problemOf(e);
}

let nextID = 0;
function useID(prefix: string) {
  const [id] = useState(() => `${prefix}-${++nextID}`);
  return id;
}

interface ControlProps {
  label: string;
  /** The field's name in the API, which problem+json errors[].field names. */
  name: string;
  problem?: Problem | null;
  required?: boolean;
}

/** useControl gives a control its id and ARIA state, and boxes it with its label and the error the API gave for its name. */
function useControl(p: ControlProps) {
  const id = useID(p.name);
  const err = p.problem?.fields[p.name];
  const attrs = {
    id,
    name: p.name,
    required: p.required,
    "aria-invalid": err ? ("true" as const) : undefined,
    "aria-describedby": err ? `${id}-error` : undefined,
  };
  const box = (control: JSX.Element) => (
    <div class="field">
      <label for={id}>{p.label}</label>
      {control}
      {err && (
        <span class="field-error" id={`${id}-error`} data-field={p.name}>
          {err}
        </span>
      )}
    </div>
  );
  return { attrs, box };
}

const text = (e: Event) => (e.target as HTMLInputElement).value;

/** Field is a labelled input; an error the API gave for its name shows beside it. */
export function Field(
  p: ControlProps & { value: string; onInput: (v: string) => void; type?: "text" | "password" | "number" | "datetime-local"; placeholder?: string },
) {
  const c = useControl(p);
  // Preact types each input type apart; the union is still an input type.
  return c.box(<input {...c.attrs} type={(p.type ?? "text") as "text"} value={p.value} placeholder={p.placeholder} onInput={(e) => p.onInput(text(e))} />);
}

/** Select is a labelled drop-down of options, with its error beside it. */
export function Select(p: ControlProps & { value: string; onChange: (v: string) => void; options: string[] }) {
  const c = useControl(p);
  const options = p.options.includes(p.value) ? p.options : [p.value, ...p.options];
  return c.box(
    <select {...c.attrs} value={p.value} onChange={(e) => p.onChange(text(e))}>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>,
  );
}

/** TextArea is a labelled multi-line field, with its error beside it. */
export function TextArea(p: ControlProps & { value: string; onInput: (v: string) => void; rows?: number }) {
  const c = useControl(p);
  return c.box(<textarea {...c.attrs} rows={p.rows ?? 6} value={p.value} onInput={(e) => p.onInput(text(e))} />);
}

export function Check(p: { label: string; name: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useID(p.name);
  return (
    <div class="field check">
      <input id={id} name={p.name} type="checkbox" checked={p.checked} onChange={(e) => p.onChange((e.target as HTMLInputElement).checked)} />
      <label for={id}>{p.label}</label>
    </div>
  );
}

/** Problems shows a failed call's message, and field errors no field on the form shows. */
export function Problems(p: { problem?: Problem | null; shown?: string[] }) {
  if (!p.problem) return null;
  const other = Object.entries(p.problem.fields).filter(([f]) => !(p.shown ?? []).includes(f));
  return (
    <div class="problem" role="alert">
      {p.problem.message}
      {other.length > 0 && (
        <ul>
          {other.map(([f, m]) => (
            <li key={f}>
              {f}: {m}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Page is a page's section; its heading takes the focus when it opens, so the keyboard (and a screen reader) starts there. */
export function Page(p: { title: string; children: ComponentChildren }) {
  const id = useID("page");
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby={id}>
      <h2 id={id} tabIndex={-1} ref={heading}>
        {p.title}
      </h2>
      {p.children}
    </section>
  );
}

export function Notice(p: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {p.children}
    </div>
  );
}

/** useLoad runs load now and on reload(); it keeps the data or the problem. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const reload = useCallback(() => {
    load().then(
      (d) => {
        setData(d);
        setProblem(null);
      },
      (e) => setProblem(asProblem(e)),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { data, problem, reload };
}

/** useChange runs changes, keeping the last one's problem, or its message when it worked. */
export function useChange() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  // what is the message when f worked, or makes it from f's result.
  const run = async <T,>(f: () => Promise<T>, what: string | ((r: T) => string) = ""): Promise<boolean> => {
    setDone("");
    try {
      const r = await f();
      setProblem(null);
      setDone(typeof what === "string" ? what : what(r));
      return true;
    } catch (e) {
      setProblem(asProblem(e));
      return false;
    }
  };
  return { problem, setProblem, done, run };
}

/** Outcome shows a change's problem (but for the fields a form shows) or its message. */
export function Outcome(p: { change: { problem: Problem | null; done: string }; shown?: string[] }) {
  return (
    <>
      <Problems problem={p.change.problem} shown={p.shown} />
      {p.change.done && <Notice>{p.change.done}</Notice>}
    </>
  );
}

export function when(s?: string | null) {
  return s ? new Date(s).toLocaleString() : "—";
}

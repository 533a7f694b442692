// Small building blocks: labelled fields with their errors beside them,
// an error box, and a loader hook.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
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

interface FieldProps {
  label: string;
  /** The field's name in the API, which problem+json errors[].field names. */
  name: string;
  value: string;
  onInput: (v: string) => void;
  problem?: Problem | null;
  type?: "text" | "password" | "number" | "datetime-local";
  required?: boolean;
  placeholder?: string;
}

/** Field is a labelled input; an error the API gave for its name shows beside it. */
export function Field(p: FieldProps) {
  const id = useID(p.name);
  const err = p.problem?.fields[p.name];
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        // Preact types each input type apart; the union is still an input type.
        type={(p.type ?? "text") as "text"}
        value={p.value}
        required={p.required}
        placeholder={p.placeholder}
        aria-invalid={err ? "true" : undefined}
        aria-describedby={err ? `${id}-error` : undefined}
        onInput={(e) => p.onInput((e.target as HTMLInputElement).value)}
      />
      {err && (
        <span class="field-error" id={`${id}-error`} data-field={p.name}>
          {err}
        </span>
      )}
    </div>
  );
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

/** act runs a change, reporting its problem; it returns whether it worked. */
export async function act(setProblem: (p: Problem | null) => void, f: () => Promise<unknown>): Promise<boolean> {
  try {
    await f();
    setProblem(null);
    return true;
  } catch (e) {
    setProblem(asProblem(e));
    return false;
  }
}

export function when(s?: string | null) {
  return s ? new Date(s).toLocaleString() : "—";
}

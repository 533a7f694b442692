// Names for ids and ids for names: the user a username (or e-mail)
// names, the application an application name names, and, for the audit
// log, the user or application behind each id it shows.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, must, type Problem, type Schemas } from "./api";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** isID reports whether s is a UUID, as the ids of users and applications are. */
export const isID = (s: string) => uuidPattern.test(s);

/** refused is the Problem of a name that names nothing, beside the field that holds it. */
function refused(field: string, message: string): Problem {
  return { message, fields: { [field]: message } };
}

/** findUser is the user whose username or e-mail is login (case aside), if any. */
async function findUser(login: string): Promise<Schemas["User"] | undefined> {
  const found = await must(api.GET("/v1/users", { params: { query: { q: login, limit: 100 } } }));
  const folded = login.toLowerCase();
  return found.items.find((u) => u.username.toLowerCase() === folded || u.email?.toLowerCase() === folded);
}

/** applications lists every application (up to the API's largest page). */
const applications = async () => (await must(api.GET("/v1/applications", { params: { query: { limit: 500 } } }))).items;

/** userIDOf is the id of the user named login (a username or e-mail, or an id as it is); an unknown name is refused beside field. */
export async function userIDOf(login: string, field: string): Promise<string> {
  const name = login.trim();
  if (isID(name)) return name;
  const u = await findUser(name);
  if (!u) throw refused(field, `no user is named ${name}`);
  return u.id;
}

/**
 * idOf is the id a filter's text names: an id as it is, else the user of
 * that username or e-mail, else the application of that name. Other text
 * is refused beside field unless asIs, when it is the id itself (a role's
 * name, a key's id).
 */
export async function idOf(text: string, field: string, asIs: boolean): Promise<string | undefined> {
  const name = text.trim();
  if (!name || isID(name)) return name || undefined;
  const u = await findUser(name);
  if (u) return u.id;
  const app = (await applications()).find((a) => a.name === name);
  if (app) return app.id;
  if (asIs) return name;
  throw refused(field, `no user or application is named ${name}`);
}

/** Named is what an id names: a user's or an application's page, and its name. */
export interface Named {
  page: "users" | "applications";
  name: string;
}

/**
 * useNames names the ids it is given, each looked up once while the page
 * is open: each new batch of ids against the list of applications, then
 * each of the rest as a user's id. An id that
 * names neither (a role's name, a key's id, a user since deleted) maps to
 * null and shows as it is.
 */
export function useNames(ids: (string | undefined)[]): Map<string, Named | null> {
  const known = useRef(new Map<string, Named | null>());
  const [, setVersion] = useState(0);
  const wanted = [...new Set(ids.filter((id): id is string => !!id && isID(id)))];
  const missing = wanted.filter((id) => !known.current.has(id));
  useEffect(() => {
    if (missing.length === 0) return;
    let live = true;
    (async () => {
      const byID = await applications().then(
        (list) => new Map(list.map((a) => [a.id, a.name])),
        () => new Map<string, string>(), // without applications:read, applications keep their ids
      );
      const named = await Promise.all(
        missing.map(async (id): Promise<Named | null> => {
          const app = byID.get(id);
          if (app !== undefined) return { page: "applications", name: app };
          const { data } = await api.GET("/v1/users/{id}", { params: { path: { id } } });
          return data ? { page: "users", name: data.username } : null;
        }),
      );
      missing.forEach((id, i) => known.current.set(id, named[i]));
      if (live) setVersion((v) => v + 1);
    })();
    return () => {
      live = false;
    };
  }, [missing.join(" ")]);
  return known.current;
}

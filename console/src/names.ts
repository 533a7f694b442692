// Names for ids: the user a username (or e-mail) names.
import { api, must, type Problem } from "./api";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** isID reports whether s is a UUID, as the ids of users and applications are. */
export const isID = (s: string) => uuidPattern.test(s);

/** refused is the Problem of a name that names nothing, beside the field that holds it. */
function refused(field: string, message: string): Problem {
  return { message, fields: { [field]: message } };
}

/** userIDOf is the id of the user named login (a username or e-mail, or an id as it is); an unknown name is refused beside field. */
export async function userIDOf(login: string, field: string): Promise<string> {
  const name = login.trim();
  if (isID(name)) return name;
  const found = await must(api.GET("/v1/users", { params: { query: { q: name, limit: 100 } } }));
  const folded = name.toLowerCase();
  const u = found.items.find((u) => u.username.toLowerCase() === folded || u.email?.toLowerCase() === folded);
  if (!u) throw refused(field, `no user is named ${name}`);
  return u.id;
}

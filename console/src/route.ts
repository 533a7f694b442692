// Where the console is: the page and, on the users and applications
// pages, the id of the one shown, in the URL's fragment (#/users/ID), so
// that a link can name a user's or an application's page and the browser's
// back button goes back.
import { useEffect, useState } from "preact/hooks";

/** Route is a page's key and the id of the item it shows, if any. */
export interface Route {
  page: string;
  id?: string;
}

function parse(): Route {
  const [page = "", id] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { page, id: id || undefined };
}

/** href is the link to a page, or to an item on it. */
export function href(page: string, id?: string) {
  return `#/${page}${id ? `/${encodeURIComponent(id)}` : ""}`;
}

/** go opens a page, or an item on it. */
export function go(page: string, id?: string) {
  location.hash = href(page, id);
}

/** useRoute is where the console is, following the fragment. */
export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const follow = () => setRoute(parse());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  return route;
}

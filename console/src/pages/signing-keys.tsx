// Signing keys: list, rotate (now, or after the activation delay).
import { useState } from "preact/hooks";
import { api, must } from "../api";
import { Check, Outcome, Page, Table, useChange, useLoad, when } from "../ui";

export function SigningKeys() {
  const keys = useLoad(() => must(api.GET("/v1/signing-keys")), []);
  const [immediate, setImmediate] = useState(false);
  const change = useChange();
  return (
    <Page title="Signing keys">
      <Table of={keys} caption="Signing keys" columns={["Key id", "Algorithm", "Created", "Active from", "Retired"]} rowKey={(k) => k.kid}
        cells={(k) => [<code>{k.kid}</code>, k.alg, when(k.created_at), when(k.active_from), when(k.retired_at)]}
      />
      <Check label="Sign with the new key at once" name="immediate" checked={immediate} onChange={setImmediate} />
      <button
        type="button"
        onClick={async () => {
          const rotate = () => must(api.POST("/v1/signing-keys/rotate", { params: { query: { immediate } } }));
          if (await change.run(rotate, (k) => `Rotated: the new key is ${k.kid}.`)) keys.reload();
        }}
      >
        Rotate signing key
      </button>
      <Outcome change={change} />
    </Page>
  );
}

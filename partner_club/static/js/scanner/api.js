// Posting to the scan API: the answer's status and JSON body, whatever the outcome.
export function poster(api) {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  return (form) =>
    fetch(api, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    }).then((response) =>
      response
        .json()
        .catch(() => ({}))
        .then((body) => ({ ok: response.ok, status: response.status, body })),
    );
}

// Bulk upload: a visit's photos are shrunk in the browser when together they
// would exceed the upload limit, so a rep can send a whole folder at once.
const LONG_SIDE = 2560;

function shrink(file) {
  return createImageBitmap(file, { imageOrientation: "from-image" })
    .then((bitmap) => {
      const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise((resolve) => canvas.toBlob((blob) => resolve(blob || file), "image/jpeg", 0.88));
    })
    .catch(() => file); // not decodable here: the server will say why
}

// The server answered with a page (the form again, with its problem): its
// main part replaces ours, without rewriting the whole document.
function showPage(html) {
  const page = new DOMParser().parseFromString(html, "text/html");
  const fresh = page.querySelector("main");
  const current = document.querySelector("main");
  if (fresh && current) {
    current.replaceWith(document.importNode(fresh, true));
    document.title = page.title;
  }
}

function bulkUpload(form) {
  const limit = parseInt(form.dataset.limit, 10) || 16 * 1024 * 1024;
  form.addEventListener("submit", (event) => {
    const input = form.querySelector('input[type="file"]');
    const files = [...input.files];
    const total = files.reduce((sum, f) => sum + f.size, 0);
    if (!files.length || total < limit * 0.9) return; // small enough: a plain form post
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    Promise.all(files.map(shrink))
      .then((blobs) => {
        const body = new FormData();
        body.append("csrf_token", form.querySelector('input[name="csrf_token"]').value);
        blobs.forEach((blob, i) => body.append("images", blob, files[i].name));
        return fetch(form.action || window.location.href, { method: "POST", body, credentials: "same-origin" });
      })
      .then((response) => {
        if (response.redirected) {
          window.location.href = response.url;
          return undefined;
        }
        return response.text().then(showPage);
      })
      .catch(() => {
        button.disabled = false;
      });
  });
}

const form = document.getElementById("bulk-form");
if (form && window.fetch && window.createImageBitmap) bulkUpload(form);

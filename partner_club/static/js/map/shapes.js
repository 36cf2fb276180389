// Region shapes per level of detail, fetched once per page and level.
const loaded = new Map();

export function levelForZoom(zooms, zoom) {
  for (const [top, level] of zooms) {
    if (zoom <= top) return level;
  }
  return zooms[zooms.length - 1][1];
}

export function loadShapes(pattern, level) {
  if (!loaded.has(level)) {
    const url = pattern.replace("{level}", String(level));
    loaded.set(
      level,
      fetch(url, { credentials: "same-origin" }).then((response) => {
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        return response.json();
      }),
    );
  }
  return loaded.get(level);
}

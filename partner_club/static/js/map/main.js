// The KPI map of /reports/map and /reports/map/<ISO>: reads the page's JSON
// (statuses, cards, links; the shapes come per zoom level from the server).
import { L } from "./leaflet.js";
import { drawBase } from "./base.js";
import { drawCountry } from "./country.js";
import { drawRegion } from "./region.js";

function start(container) {
  const data = JSON.parse(document.getElementById("kpi-map-data").textContent);
  const map = L.map(container, { zoomSnap: 0.25, worldCopyJump: false });
  if (data.bounds) map.fitBounds(data.bounds);
  else map.setView([60, 90], 2);
  const state = { armed: null };
  drawBase(map, data);
  const drawn = data.level === "country" ? drawCountry(map, data, state) : drawRegion(map, data, state);
  container.kpiMap = map; // for the browser tests: an element property, not a global
  drawn.then(() => {
    container.dataset.ready = "true";
  });
}

const container = document.getElementById("kpi-map");
if (container) start(container);

// The base layer: map tiles when a tile server is configured, otherwise the
// club's own light map (sea is the container's colour, land the region
// shapes, and the main cities' names).
import { L } from "./leaflet.js";

const MINOR_CITIES_FROM_ZOOM = 4;

function cityMarker(city) {
  const label = document.createElement("span");
  label.textContent = city.name;
  const icon = L.divIcon({ className: "map-city", html: label, iconSize: null });
  return L.marker([city.lat, city.lon], { icon, interactive: false, keyboard: false });
}

export function drawBase(map, data) {
  if (data.tiles) {
    L.tileLayer(data.tiles, { attribution: "&copy; map tiles" }).addTo(map);
    map.getContainer().classList.add("has-tiles");
    return;
  }
  const major = L.layerGroup(data.cities.filter((c) => c.rank === 1).map(cityMarker));
  const minor = L.layerGroup(data.cities.filter((c) => c.rank !== 1).map(cityMarker));
  major.addTo(map);
  const showMinor = () => {
    if (map.getZoom() >= MINOR_CITIES_FROM_ZOOM) minor.addTo(map);
    else minor.remove();
  };
  map.on("zoomend", showMinor);
  showMinor();
}

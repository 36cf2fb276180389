// A region's map: its outline, its rep territories and its shops. A shop's
// dot is small, but the circle a finger can hit is 44 px across.
import { L } from "./leaflet.js";
import { bindCard, statusLayer } from "./cards.js";
import { loadShapes } from "./shapes.js";

const OUTLINE = { color: "#5b6675", weight: 2, fillOpacity: 0.12 };
const TERRITORY = { color: "#ffffff", weight: 1.5, fillOpacity: 0.75 };
const SHOP_DOT = { color: "#1d2430", weight: 1.5, fillOpacity: 0.95, radius: 7, interactive: false };
const SHOP_TARGET = { stroke: false, fillOpacity: 0, radius: 22 };
const LAND = { color: "#c9c4b5", weight: 0.8, fillColor: "#f4f1ea", fillOpacity: 1, interactive: false };
// The neighbours as light land under the region: the country-wide level the country map uses too.
const LAND_LEVEL = 1;

export function drawRegion(map, data, state) {
  if (data.outline) statusLayer([data.outline], OUTLINE, state).addTo(map);
  if (data.territories.length) statusLayer(data.territories, TERRITORY, state).addTo(map);
  const dots = L.layerGroup();
  const targets = L.layerGroup();
  for (const shop of data.shops) {
    const [lon, lat] = shop.geometry.coordinates;
    L.circleMarker([lat, lon], { ...SHOP_DOT, fillColor: shop.properties.colour }).addTo(dots);
    const target = L.circleMarker([lat, lon], { ...SHOP_TARGET, fillColor: shop.properties.colour });
    bindCard(target, shop.properties, state);
    target.addTo(targets);
  }
  dots.addTo(map);
  targets.addTo(map);
  if (!data.shapes || data.tiles) return Promise.resolve();
  return loadShapes(data.shapes, LAND_LEVEL)
    .then((shapes) => L.geoJSON(shapes, { style: LAND, interactive: false }).addTo(map).bringToBack())
    .catch(() => {
      /* without the neighbours the region is still drawn */
    });
}

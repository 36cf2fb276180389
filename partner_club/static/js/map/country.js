// The country map: every region's shape at the detail the zoom can show,
// coloured by KPI status where the reader has figures, plain land elsewhere.
import { L } from "./leaflet.js";
import { bindCard, cardFromTable } from "./cards.js";
import { levelForZoom, loadShapes } from "./shapes.js";

const REGION = { color: "#ffffff", weight: 1.5, fillOpacity: 0.75 };
const LAND = { color: "#c9c4b5", weight: 0.8, fillColor: "#f4f1ea", fillOpacity: 1, interactive: false };

export function drawCountry(map, data, state) {
  const layer = L.geoJSON(null, {
    style: (feature) => {
      const region = data.regions[feature.properties.iso];
      if (!region) return data.tiles ? { ...LAND, fillOpacity: 0 } : LAND;
      return { ...REGION, fillColor: region.colour };
    },
    onEachFeature: (feature, shape) => {
      const region = data.regions[feature.properties.iso];
      if (!region) return;
      const card = region.row ? () => cardFromTable("region", region.row) : region.name;
      bindCard(shape, { url: region.url, card }, state);
    },
  }).addTo(map);
  let shown = null;
  const draw = () => {
    const level = levelForZoom(data.zooms, map.getZoom());
    if (level === shown) return Promise.resolve();
    shown = level;
    return loadShapes(data.shapes, level).then((shapes) => {
      if (shown !== level) return;
      layer.clearLayers();
      layer.addData(shapes);
    });
  };
  map.on("zoomend", draw);
  return draw();
}

// The country map: every region's shape at the detail the zoom can show,
// coloured by KPI status where the reader has figures, plain land elsewhere.
// Country-wide levels come as one file; zoomed in further, only the regions
// in view are fetched in finer detail and drawn over their coarse shapes.
import { L } from "./leaflet.js";
import { bindCard, cardFromTable } from "./cards.js";
import { levelForZoom, loadRegion, loadShapes } from "./shapes.js";

const REGION = { color: "#ffffff", weight: 1.5, fillOpacity: 0.75 };
const LAND = { color: "#c9c4b5", weight: 0.8, fillColor: "#f4f1ea", fillOpacity: 1, interactive: false };

function regionLayer(data, state) {
  return L.geoJSON(null, {
    style: (feature) => {
      const region = data.regions[feature.properties.iso];
      const land = data.tiles ? { ...LAND, fillOpacity: 0 } : LAND;
      if (!region) return land;
      // Outside the programme: land that still opens its region's page.
      return region.row ? { ...REGION, fillColor: region.colour } : { ...land, interactive: true };
    },
    onEachFeature: (feature, shape) => {
      const region = data.regions[feature.properties.iso];
      if (!region) return;
      const card = region.row ? () => cardFromTable("region", region.row) : region.name;
      bindCard(shape, { url: region.url, card }, state);
    },
  });
}

export function drawCountry(map, data, state) {
  const coarse = regionLayer(data, state).addTo(map);
  const fine = regionLayer(data, state).addTo(map);
  const coarseOf = new Map(); // iso -> its shape in the coarse layer
  const fineOf = new Map(); // iso -> [level, its shape in the fine layer]
  let base = null;

  const showBase = (level) => {
    if (level === base) return Promise.resolve();
    base = level;
    return loadShapes(data.shapes, level).then((shapes) => {
      if (base !== level) return;
      coarse.clearLayers();
      coarseOf.clear();
      fine.clearLayers();
      fineOf.clear();
      coarse.addData(shapes);
      coarse.eachLayer((shape) => coarseOf.set(shape.feature.properties.iso, shape));
    });
  };

  const showDetail = (level) => {
    const view = map.getBounds();
    const wanted = [...coarseOf.entries()].filter(([iso, shape]) => {
      const shown = fineOf.get(iso);
      return (!shown || shown[0] !== level) && view.intersects(shape.getBounds());
    });
    return Promise.all(
      wanted.map(([iso, shape]) =>
        loadRegion(data.region_shapes, level, iso).then((feature) => {
          if (levelForZoom(data.zooms, map.getZoom()) !== level) return;
          const before = fineOf.get(iso);
          if (before) fine.removeLayer(before[1]);
          coarse.removeLayer(shape);
          fine.addData(feature);
          const layers = fine.getLayers();
          fineOf.set(iso, [level, layers[layers.length - 1]]);
        }),
      ),
    );
  };

  const draw = () => {
    const level = levelForZoom(data.zooms, map.getZoom());
    if (level < data.collections) {
      if (fineOf.size) base = null; // coarse shapes were replaced: draw them all again
      return showBase(level);
    }
    return showBase(data.collections - 1).then(() => showDetail(level));
  };
  map.on("moveend", draw);
  return draw();
}

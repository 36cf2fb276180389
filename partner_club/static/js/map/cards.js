// A shape's hover card and its link: a mouse opens the page on click; a finger
// cannot hover, so its first tap shows the card and the second opens the page.
import { L } from "./leaflet.js";

export function bindCard(layer, properties, state) {
  if (properties.card) {
    layer.on("mouseover mousemove click", (event) => {
      // The card opens below the pointer in the map's upper half, so it is not cut off.
      const tooltip = layer.getTooltip();
      if (tooltip && event.containerPoint && layer._map) {
        tooltip.options.direction = event.containerPoint.y < layer._map.getSize().y / 2 ? "bottom" : "top";
      }
    });
    layer.bindTooltip(properties.card, { sticky: true, direction: "top", className: "kpi-card" });
  }
  if (!properties.url) return;
  layer.on("click", (event) => {
    const touch = event.originalEvent && event.originalEvent.pointerType === "touch";
    if (touch && state.armed !== layer) {
      state.armed = layer;
      layer.openTooltip(event.latlng);
      return;
    }
    window.location.href = properties.url;
  });
  if (layer.setStyle) {
    const weight = layer.options.weight;
    layer.on("mouseover", () => layer.setStyle({ weight: weight + 1.5 }));
    layer.on("mouseout", () => layer.setStyle({ weight }));
  }
}

// A card made of a table row: each cell under its column's heading.
export function cardFromTable(kind, id) {
  const row = document.querySelector(`tr[data-kind="${kind}"][data-id="${id}"]`);
  if (!row) return null;
  const headings = [...row.closest("table").tHead.rows[0].cells].map((cell) => cell.textContent.trim());
  const card = document.createElement("div");
  [...row.cells].forEach((cell, index) => {
    const line = document.createElement("div");
    if (index === 0) {
      const name = document.createElement("strong");
      name.textContent = (cell.querySelector("a") || cell).textContent.trim();
      line.append(name);
      const targets = cell.querySelector(".targets");
      if (targets) line.append(document.createElement("br"), targets.textContent.trim());
    } else {
      line.textContent = `${headings[index]}: ${cell.textContent.trim()}`;
    }
    card.append(line);
  });
  return card;
}

export function statusLayer(features, style, state) {
  return L.geoJSON(
    { type: "FeatureCollection", features },
    {
      style: (feature) => ({ ...style, fillColor: feature.properties.colour }),
      onEachFeature: (feature, layer) => bindCard(layer, feature.properties, state),
    },
  );
}

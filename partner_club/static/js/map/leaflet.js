// Leaflet 1.9 ships as a classic script that defines window.L; this is the one place it is read.
export const L = window.L;

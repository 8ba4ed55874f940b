// θ's two coordinates by name, as the API describes the surface: w and b for a model on data
// (θ = (w, b)), x and y for the other surfaces. Axes, θ₀'s inputs, the readout and the exports
// all say them.
export const paramNames = (surface) => surface?.parameters ?? ["x", "y"];

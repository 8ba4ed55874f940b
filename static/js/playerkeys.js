// The player's buttons, scrubber, speed and keys (space, ← →, Home, End) wired to a Player.
const $ = (id) => document.getElementById(id);

// hasRun(): whether there is a run to play (the keys do nothing before the first one).
export function wirePlayer(player, hasRun) {
  // A mouse click leaves no focus on the player's buttons, so that space keeps meaning play/pause.
  document.querySelector(".player").addEventListener("click", (e) => {
    if (e.detail > 0) e.target.closest("button")?.blur();
  });
  $("play").addEventListener("click", () => player.toggle());
  $("back").addEventListener("click", () => player.step(-1));
  $("forward").addEventListener("click", () => player.step(1));
  $("restart").addEventListener("click", () => {
    player.seek(0);
    player.play();
  });
  $("scrubber").addEventListener("input", () => {
    const t = Number($("scrubber").value); // read first: pause() writes the old t back
    player.pause();
    player.seek(t);
  });
  $("speed").addEventListener("change", () => {
    const v = $("speed").value;
    player.speed = v === "auto" ? "auto" : Number(v);
  });
  document.addEventListener("keydown", (e) => {
    // Form fields keep their keys; on a button, space presses the button.
    if (
      e.target.closest("input, select, textarea") ||
      e.altKey ||
      e.ctrlKey ||
      e.metaKey ||
      !hasRun()
    )
      return;
    if (e.key === " " && !e.target.closest("button")) player.toggle();
    else if (e.key === "ArrowLeft") player.step(-1);
    else if (e.key === "ArrowRight") player.step(1);
    else if (e.key === "Home") player.step(-Infinity);
    else if (e.key === "End") player.step(Infinity);
    else return;
    e.preventDefault();
  });
}

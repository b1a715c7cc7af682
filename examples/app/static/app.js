// Counts the characters left in the post box. The pages work without it.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("form.post textarea");
  const count = document.querySelector("form.post .count");
  if (!box || !count) return;
  const max = Number(count.dataset.max);
  const update = () => { count.textContent = (max - box.value.length) + " left"; };
  box.addEventListener("input", update);
  update();
});

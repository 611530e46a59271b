// The site-visit form (bank_work_task.html): "use my location" fills latitude, longitude
// and accuracy from the browser's geolocation (the fields stay editable, and a refusal or
// failure says so in words); the photos chosen are listed with their sizes, and too many
// or too large ones are named before anything is sent (the server checks again).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("locate");
  const status = document.getElementById("locate-status");
  const say = (text, problem) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("problem", Boolean(problem));
  };
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", () => {
      say(button.dataset.locating, false);
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const { latitude, longitude, accuracy } = position.coords;
          document.getElementById("latitude").value = latitude.toFixed(6);
          document.getElementById("longitude").value = longitude.toFixed(6);
          document.getElementById("accuracy").value = Math.round(accuracy * 10) / 10;
          button.disabled = false;
          say(button.dataset.located, false);
        },
        (error) => {
          button.disabled = false;
          const denied = error.code === error.PERMISSION_DENIED;
          say(denied ? button.dataset.denied : button.dataset.unavailable, true);
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
      );
    });
  }

  const input = document.getElementById("photos");
  const list = document.getElementById("photo-list");
  const error = document.getElementById("photos-error");
  if (!input || !list) return;
  input.addEventListener("change", () => {
    list.textContent = "";
    const files = [...input.files];
    for (const file of files) {
      const item = document.createElement("li");
      const size = file.size < 1048576 ? `${Math.ceil(file.size / 1024)} KB` : `${(file.size / 1048576).toFixed(1)} MB`;
      item.textContent = `${file.name} (${size})`;
      list.append(item);
    }
    let problem = "";
    if (files.length > Number(input.dataset.maxCount)) problem = input.dataset.tooMany;
    else if (files.some((f) => f.size > Number(input.dataset.maxBytes))) problem = input.dataset.tooLarge;
    input.setCustomValidity(problem);
    if (error) error.textContent = problem;
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  });
});

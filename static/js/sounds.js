// Short, distinct beeps for scan answers, made with Web Audio (no sound files).

let context = null;

// Each tone: [frequency Hz, start s, duration s, waveform].
const PATTERNS = {
  ok: [[880, 0, 0.11, "sine"], [1320, 0.12, 0.18, "sine"]],
  warn: [[740, 0, 0.14, "triangle"], [740, 0.22, 0.14, "triangle"]],
  bad: [[220, 0, 0.22, "square"], [165, 0.27, 0.35, "square"]],
};

/** Create or resume the AudioContext; call after the camera opened or on a user gesture. */
export function unlockAudio() {
  try {
    if (!context) {
      const AudioContextClass = window.AudioContext || window.webkitAudioContext;
      if (!AudioContextClass) return;
      context = new AudioContextClass();
    }
    if (context.state === "suspended") context.resume().catch(() => {});
  } catch {
    context = null;
  }
}

/** Play the beep for KIND ('ok', 'warn' or 'bad'); silent when audio is not allowed yet. */
export function play(kind) {
  const pattern = PATTERNS[kind];
  if (!pattern || !context || context.state !== "running") return false;
  const start = context.currentTime + 0.01;
  for (const [frequency, offset, duration, type] of pattern) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = type;
    oscillator.frequency.value = frequency;
    const at = start + offset;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(type === "square" ? 0.12 : 0.3, at + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + duration);
    oscillator.connect(gain).connect(context.destination);
    // Disconnect when done, so nodes of thousands of beeps never pile up in the graph.
    oscillator.onended = () => {
      oscillator.disconnect();
      gain.disconnect();
    };
    oscillator.start(at);
    oscillator.stop(at + duration + 0.02);
  }
  return true;
}

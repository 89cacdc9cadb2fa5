// Log levels as PocketBase numbers them (slog): the name and badge class of each.
export const LEVELS = {
  [-4]: ['DEBUG', ''],
  0: ['INFO', 'badge-success'],
  4: ['WARN', 'badge-warn'],
  8: ['ERROR', 'badge-danger'],
};

export function levelName(level) {
  return LEVELS[level]?.[0] ?? `L${level}`;
}

export function LevelBadge({ level }) {
  const cls = LEVELS[level]?.[1] ?? (level > 8 ? 'badge-danger' : '');
  return <span class={`badge ${cls}`}>{levelName(level)}</span>;
}

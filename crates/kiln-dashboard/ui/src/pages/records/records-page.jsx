// PLACEHOLDER: replaced by the area's real screen.
export function RecordsPage() {
  return <p class="pad">PLACEHOLDER RecordsPage</p>;
}

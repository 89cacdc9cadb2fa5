// PLACEHOLDER: replaced by the area's real screen.
export function LogsPage() {
  return <p class="pad">PLACEHOLDER LogsPage</p>;
}

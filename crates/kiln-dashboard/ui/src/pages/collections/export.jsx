// PLACEHOLDER: replaced by the area's real screen.
export function ExportCollectionsPage() {
  return <p class="pad">PLACEHOLDER ExportCollectionsPage</p>;
}

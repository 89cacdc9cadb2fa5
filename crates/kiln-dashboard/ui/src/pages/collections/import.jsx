// PLACEHOLDER: replaced by the area's real screen.
export function ImportCollectionsPage() {
  return <p class="pad">PLACEHOLDER ImportCollectionsPage</p>;
}

// Placeholder: replaced by the screen being built.
export default function Page() {
  return <h1>Customer</h1>;
}

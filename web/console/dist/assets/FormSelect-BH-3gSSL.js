import{Q as i,bM as t}from"./index-D3MO6vRY.js";function o(r){const{"aria-required":a,"aria-invalid":s,...e}=r;return i.jsx(t,{...e})}export{o as F};

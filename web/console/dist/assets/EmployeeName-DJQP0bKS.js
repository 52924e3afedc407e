import{Q as e}from"./index-D3MO6vRY.js";import{u as r}from"./directory-EGP8Pb1w.js";function s({id:m}){return e.jsx(e.Fragment,{children:r(m)})}export{s as E};
